"""The run store: one SQLite file (WAL mode) per run.

Tables
- ``manifest(key, value)``: JSON values; the run's identity (config, seed, code version,
  dataset, the exact index set, device, torch version, chunk size) and model hashes.
- ``noises(noise, spec)``: every noise by its stable name, with the spec that rebuilds it.
- ``counts``: per (model, noise, image) the label and the raw class counts of the
  selection (n0) and estimation (n) draws, with the sampling seconds.
- ``certificates``: per count row x certifier x norm x alpha the prediction (-1 when
  abstaining), p_lower, radius, correctness and the confidence the certifier spent.
- ``imported``: certificates made elsewhere (Cohen et al.'s certify TSV): per dataset,
  model, noise, certifier, norm, alpha and image the label, prediction (-1 abstain),
  radius, correctness, seconds and the source file. They have no counts, so they cannot
  be recertified; a store opened by older code simply lacks the table, which is created
  on first use.
- ``deterministic_certificates``: per (model, image, certifier, norm, eps) of a
  deterministic certifier (``ibp``, ``crown``), whether the image's label is certified
  in the box of radius eps, the lower bound of its worst margin, and the seconds spent.
- ``deterministic_radii``: per (model, image, certifier, norm) the label, the model's
  prediction, the largest certified eps (bisection) and the seconds the bisection took.
- ``audit``: the summary of the last ``smoothbench audit`` (``harness.audit``): per
  (audit, certifier, noise, norm, model) the trials, the failures, alpha, the confidence
  the certifier spent, the binomial p-value, the mean certified and empirical radii,
  whether it passed, and the settings (JSON). A new audit replaces the old summary.

Counts are the sufficient statistic, so certificates can be recomputed for any alpha
or certifier without the model. Every row is written inside a transaction: it is in
the store whole, or not at all.
"""

from __future__ import annotations

import errno
import json
import math
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.manifest_shapes import manifest_fault
from smoothbench import plugins

SCHEMA_VERSION = 3  # 2: imported and deterministic certificates; 3: audit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS noises (noise TEXT PRIMARY KEY, spec TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counts (
    model TEXT NOT NULL,
    noise TEXT NOT NULL REFERENCES noises(noise),
    image INTEGER NOT NULL,
    label INTEGER NOT NULL,
    n0 INTEGER NOT NULL,
    n INTEGER NOT NULL,
    selection TEXT NOT NULL,
    estimation TEXT NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (model, noise, image)
);
CREATE TABLE IF NOT EXISTS certificates (
    model TEXT NOT NULL,
    noise TEXT NOT NULL,
    image INTEGER NOT NULL,
    certifier TEXT NOT NULL,
    norm TEXT NOT NULL,
    alpha REAL NOT NULL,
    prediction INTEGER NOT NULL,
    p_lower REAL NOT NULL,
    radius REAL NOT NULL,
    correct INTEGER NOT NULL,
    confidence_spent REAL NOT NULL,
    PRIMARY KEY (model, noise, image, certifier, norm, alpha),
    FOREIGN KEY (model, noise, image) REFERENCES counts(model, noise, image)
);
CREATE TABLE IF NOT EXISTS imported (
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    noise TEXT NOT NULL,
    certifier TEXT NOT NULL,
    norm TEXT NOT NULL,
    alpha REAL NOT NULL,
    image INTEGER NOT NULL,
    label INTEGER NOT NULL,
    prediction INTEGER NOT NULL,
    radius REAL NOT NULL,
    correct INTEGER NOT NULL,
    seconds REAL NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (model, noise, certifier, norm, alpha, image)

);
CREATE TABLE IF NOT EXISTS deterministic_certificates (
    model TEXT NOT NULL,
    image INTEGER NOT NULL,
    certifier TEXT NOT NULL,
    norm TEXT NOT NULL,
    eps REAL NOT NULL,
    certified INTEGER NOT NULL,
    margin REAL NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (model, image, certifier, norm, eps)
);
CREATE TABLE IF NOT EXISTS deterministic_radii (
    model TEXT NOT NULL,
    image INTEGER NOT NULL,
    certifier TEXT NOT NULL,
    norm TEXT NOT NULL,
    label INTEGER NOT NULL,
    prediction INTEGER NOT NULL,
    radius REAL NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (model, image, certifier, norm)
);
CREATE TABLE IF NOT EXISTS audit (
    audit TEXT NOT NULL,
    certifier TEXT NOT NULL,
    noise TEXT NOT NULL,
    norm TEXT NOT NULL,
    model TEXT NOT NULL,
    trials INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    alpha REAL NOT NULL,
    confidence_spent REAL NOT NULL,
    p_value REAL NOT NULL,
    mean_certified REAL,
    mean_empirical REAL,
    passed INTEGER NOT NULL,
    settings TEXT NOT NULL,
    PRIMARY KEY (audit, certifier, noise, norm, model)
);
"""


@dataclass(frozen=True)
class CountRow:
    model: str
    noise: str
    image: int
    label: int
    selection: np.ndarray
    estimation: np.ndarray
    seconds: float

    def __post_init__(self) -> None:
        for name in ("selection", "estimation"):
            arr = getattr(self, name)
            if not (
                isinstance(arr, np.ndarray)
                and arr.ndim == 1
                and np.issubdtype(arr.dtype, np.integer)
                and (arr >= 0).all()
            ):
                raise ValueError(f"{name} counts must be a 1-D array of non-negative integers")
        if self.selection.shape != self.estimation.shape:
            raise ValueError("selection and estimation counts must have the same classes")
        if not 0 <= int(self.label) < len(self.estimation):
            raise ValueError(f"label {self.label} outside the {len(self.estimation)} classes")

    @property
    def n0(self) -> int:
        return int(self.selection.sum())

    @property
    def n(self) -> int:
        return int(self.estimation.sum())


@dataclass(frozen=True)
class CertificateRow:
    model: str
    noise: str
    image: int
    certifier: str
    norm: str
    alpha: float
    prediction: int
    p_lower: float
    radius: float
    correct: bool
    confidence_spent: float


@dataclass(frozen=True, slots=True)
class ImportedRow:
    """A certificate made elsewhere, without counts (``prediction`` -1: abstained)."""

    dataset: str
    model: str
    noise: str
    certifier: str
    norm: str
    alpha: float
    image: int
    label: int
    prediction: int
    radius: float
    correct: bool
    seconds: float
    source: str

    def __post_init__(self) -> None:
        if self.image < 0 or self.label < 0 or self.prediction < -1:
            raise ValueError(
                f"image {self.image}, label {self.label}, prediction {self.prediction}: "
                "indices are >= 0 (prediction -1 for abstain)"
            )
        if not (0 <= self.radius < math.inf):  # also refuses NaN; no finite n certifies inf
            raise ValueError(f"radius must be a finite number >= 0, got {self.radius}")
        if self.prediction == -1 and self.radius != 0:
            raise ValueError(f"image {self.image} abstains but has radius {self.radius}")
        if bool(self.correct) != (self.prediction == self.label):
            raise ValueError(
                f"image {self.image}: correct is {int(self.correct)} but prediction "
                f"{self.prediction} and label {self.label} say otherwise"
            )


@dataclass(frozen=True)
class DeterministicRow:
    """A deterministic certificate: ``certified`` in the box of radius ``eps``, with the
    lower bound of the worst margin (positive iff certified) and the seconds spent."""

    model: str
    image: int
    certifier: str
    norm: str
    eps: float
    certified: bool
    margin: float
    seconds: float


@dataclass(frozen=True)
class DeterministicRadiusRow:
    """The largest eps a deterministic certifier certified for an image (bisection)."""

    model: str
    image: int
    certifier: str
    norm: str
    label: int
    prediction: int
    radius: float
    seconds: float


@dataclass(frozen=True)
class AuditRow:
    """One line of an audit's summary (``harness.audit``): ``audit`` is ``statistical``
    (``trials`` certifications of a known classifier, ``failures`` false certificates),
    ``attack`` (``trials`` certified images attacked, ``failures`` statistically clear
    breaks) or ``deterministic-attack`` (any failure is a bug). ``mean_certified`` and
    ``mean_empirical`` are the mean certified radius and the mean true (statistical) or
    attack (attack) radius over the same certificates; None where there are none."""

    audit: str
    certifier: str
    noise: str
    norm: str
    model: str
    trials: int
    failures: int
    alpha: float
    confidence_spent: float
    p_value: float
    mean_certified: float | None
    mean_empirical: float | None
    passed: bool
    settings: dict[str, Any]

    def __post_init__(self) -> None:
        if not 0 <= self.failures <= self.trials:
            raise ValueError(f"failures {self.failures} outside [0, trials {self.trials}]")
        if not 0.0 <= self.p_value <= 1.0:
            raise ValueError(f"p_value must lie in [0, 1], got {self.p_value}")


class StoreError(ValueError):
    """A store that cannot be used as asked: not a file, not SQLite, not a smoothbench
    store, damaged, written by a newer version, or without a manifest."""


class StoreBusyError(StoreError):
    """Another process is writing to the store."""


_SQLITE_HEADER = b"SQLite format 3\x00"
_UNREADABLE = object()
_OUR_TABLES = {"manifest", "noises", "counts", "certificates"}
#: schema version -> the step that brings a store of that version to the next one. The
#: tables added since version 1 (imported and deterministic certificates) are created by
#: ``_SCHEMA`` itself, so stepping from 1 to 2 only records the version.
#: From 2 to 3 the ``audit`` table is added, also by ``_SCHEMA``.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: lambda db: None,
    2: lambda db: None,
}


def _check_path(path: Path, must_exist: bool) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a store file; give a file path")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise StoreError(f"cannot put a store at {path}: {parent} is a file")
            break
    if must_exist and not path.is_file():
        raise FileNotFoundError(f"no store at {path}")
    if path.is_file() and (links := path.stat().st_nlink) > 1:
        raise StoreError(
            f"{path} has {links} hard links (names in the file system): SQLite keeps its "
            "write-ahead log and locks beside each name, so writes through two names can "
            "overwrite each other and a reader through one misses the other's; use a copy "
            "(cp) of the store, or remove its other names"
        )
    if path.is_file() and path.stat().st_size > 0:
        with open(path, "rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
        if head != _SQLITE_HEADER:
            raise StoreError(f"{path} is not a smoothbench store (not an SQLite file)")
        _refuse_foreign_tables(path)


def _refuse_foreign_tables(path: Path) -> None:
    """Refuse another program's SQLite database before anything is written beside it or
    into it (a lock file, a write-ahead log, the switch to WAL a writer makes). Read as
    immutable, which creates no file: tables only in an unfolded WAL go unseen here, and
    the check after opening sees them."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)
        try:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError:  # damaged: the writable open names it
        return
    tables = {name for (name,) in rows}
    if tables and not (_OUR_TABLES & tables):
        raise StoreError(_foreign(path, tables))


def _foreign(path: Path, tables: set[str]) -> str:
    return (
        f"{path} is an SQLite database of something else (tables {sorted(tables)[:5]}), "
        "not a smoothbench store"
    )


#: SQLite's words for a disk that cannot take a write (a full one, say): opening a store
#: there is the machine's trouble (exit 1), not a bad store (exit 2).
_DISK_ERRORS = frozenset({"disk I/O error", "database or disk is full"})

#: How a reader connects, first to last (``Store._connect_reader``).
_READER_MODES = (("mode=rw", "PRAGMA query_only=ON"), ("mode=ro", None), ("immutable=1", None))


def beside(path: Path, suffix: str) -> Path:
    """The file SQLite (``-wal``, ``-shm``) or the writer lock (``.lock``) keeps beside a
    store: next to the file its path resolves to, whatever link or spelling reached it."""
    real = path.resolve()
    return real.with_name(real.name + suffix)


class _WriterLock:
    """An exclusive advisory lock on ``<store>.lock`` (``fcntl.flock``), held while a
    store is open for writing: a second writer is refused at once. The lock sits beside
    the file the path resolves to, so a writer through a symbolic link or another
    spelling of the path meets it too. Where ``fcntl`` does not exist (Windows) there is
    no lock."""

    def __init__(self, path: Path) -> None:
        self.path = beside(path, ".lock")
        self._fh = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        fh = open(self.path, "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise StoreBusyError(
                f"{path} is being written by {holder}; wait for it to finish, or give another store"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"process {os.getpid()}")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def check_not_busy(path: str | Path) -> None:
    """``StoreBusyError`` now if another process writes the store at ``path``: for a command
    that would otherwise find it out only when it opens the store, after minutes of
    loading data and training models. Only an existing store is checked (no lock file is
    left beside a store that is never made), and nothing is said where the lock cannot be
    taken here (a read-only folder): opening the store says that."""
    if not Path(path).is_file():
        return
    _check_path(Path(path), must_exist=True)  # a file that is no store: refused, no lock made
    try:
        lock = _WriterLock(Path(path))
    except OSError:  # not StoreBusyError, a ValueError: that one is the answer
        return
    lock.release()


def store_writer(path: str | Path) -> str | None:
    """The process writing the store at ``path`` now (``process 123``, as its lock names
    it), or None: no writer, no lock file, this process, or a lock that cannot be read
    here. It only looks: the lock file is neither made nor written, and the lock is
    taken shared, for an instant only (a writer starting in that instant is refused, as
    it would be beside any other reader of the lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return None
    try:
        fh = open(beside(Path(path), ".lock"))  # noqa: SIM115 - closed below
    except OSError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            holder = fh.read().strip() or "another process"
            return None if holder == f"process {os.getpid()}" else holder
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file ``path`` names now; None where there is none."""
    try:
        st = path.resolve().stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def remove_store_files(path: Path) -> None:
    """Delete a store, its write-ahead log and shared memory, and its writer lock (for a
    store that a command created and could not fill: a refused import)."""
    for name in (path.resolve(), *(beside(path, s) for s in ("-wal", "-shm", ".lock"))):
        name.unlink(missing_ok=True)


class Store:
    """A run's SQLite store. Use as a context manager or call ``close()``.

    Opened for writing (the default) it holds an exclusive lock (one writer per store),
    creates missing tables and migrates an older schema. ``readonly=True`` (reports)
    takes no lock and writes nothing (``_connect_reader``). Either way a file that is not
    an SQLite database, a foreign database, a damaged one (``PRAGMA quick_check``) or one
    written by a newer schema is refused with a ``StoreError`` that says which."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        _check_path(self.path, must_exist=readonly)
        if not readonly:  # a new store in a new folder (out/ of a fresh clone)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = None if readonly else _WriterLock(self.path)
        try:
            self._db = self._connect()
            # the file this writer opened, by its absolute path (a later chdir moves nothing)
            self._where = self.path.absolute()
            self._file = None if readonly else _file_id(self._where)
            self._check_integrity()
            self._check_schema()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                return self._connect_reader()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            return db
        except sqlite3.OperationalError as err:
            if str(err) in _DISK_ERRORS:  # the machine's trouble, not a bad store
                raise OSError(
                    errno.EIO, f"{self.path} cannot be opened: {err} (is its disk full?)"
                ) from None
            raise StoreError(f"{self.path} cannot be opened as a store: {err}") from None
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path} cannot be opened as a store: {err}") from None

    def _connect_reader(self) -> sqlite3.Connection:
        """A connection that reads and changes nothing, the first of these that opens:

        - the file opened for writing, with ``PRAGMA query_only`` (any statement that
          writes is refused): closing the last connection then lets SQLite fold its WAL
          into the store and remove ``-wal`` and ``-shm``, which a read-only connection
          creates next to a WAL store and cannot remove;
        - read-only (where SQLite refuses the first);
        - immutable (a WAL store on read-only media)."""
        uri = self.path.resolve().as_uri()
        attempts = list(_READER_MODES)
        while True:
            query, pragma = attempts.pop(0)
            db = None
            try:
                if query == "immutable=1":
                    self._refuse_unread_wal()
                db = sqlite3.connect(f"{uri}?{query}", uri=True, isolation_level=None)
                if pragma is not None:
                    db.execute(pragma)
                db.execute("SELECT 1 FROM sqlite_master LIMIT 1")
                return db
            except sqlite3.OperationalError:
                if db is not None:
                    db.close()
                if not attempts:
                    raise

    def _refuse_unread_wal(self) -> None:
        """An immutable connection reads the main file alone: where a write-ahead log
        holds the latest writes (a run stopped before SQLite folded it in), reading
        without it would report an older store, so it is refused."""
        wal = beside(self.path, "-wal")
        size = wal.stat().st_size if wal.exists() else 0
        if size:
            raise StoreError(
                f"{self.path} has a write-ahead log ({wal.name}, {size} bytes) with its latest "
                "writes, which SQLite cannot read where the store is read-only; copy the "
                f"store with {wal.name} to a writable folder and open it there"
            )

    def _check_integrity(self) -> None:
        try:
            result = self._db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as err:
            raise StoreError(
                f"{self.path} is damaged (not a valid SQLite database): {err}"
            ) from None
        if result != [("ok",)]:
            problems = "; ".join(r[0] for r in result[:3])
            raise StoreError(f"{self.path} is damaged: {problems}")
        page = self._db.execute("PRAGMA page_size").fetchone()[0]
        size = self.path.stat().st_size if self.path.exists() else 0
        if size % page:  # SQLite writes whole pages: a partial one means a cut file
            raise StoreError(
                f"{self.path} is damaged: truncated ({size} bytes, not a whole number of "
                f"{page}-byte pages)"
            )

    def _tables(self) -> set[str]:
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows}

    def _check_schema(self) -> None:
        tables = self._tables()
        if tables and not (_OUR_TABLES & tables):
            raise StoreError(_foreign(self.path, tables))
        if self.readonly:
            if "manifest" not in tables:
                raise StoreError(f"{self.path} is not a smoothbench store (no manifest)")
            version = self.get_manifest("schema_version")
            if isinstance(version, int) and version > SCHEMA_VERSION:
                raise StoreError(self._newer(version))
            return
        self._db.executescript(_SCHEMA)
        version = self.get_manifest("schema_version")
        if version is None:
            if (
                tables
                and "counts" in tables
                and self._db.execute("SELECT 1 FROM counts LIMIT 1").fetchone()
            ):
                raise StoreError(
                    f"{self.path} holds counts but no manifest (it was deleted or never "
                    "written): it cannot say which run made them; use a new --store"
                )
            with self.transaction():
                self._put_manifest("schema_version", SCHEMA_VERSION)
            return
        if not isinstance(version, int) or version < 1:
            raise StoreError(f"{self.path}: unreadable schema version {version!r}")
        if version > SCHEMA_VERSION:
            raise StoreError(self._newer(version))
        while version < SCHEMA_VERSION:
            with self.transaction() as db:
                MIGRATIONS[version](db)
                version += 1
                self._put_manifest("schema_version", version)

    def _newer(self, version: int) -> str:
        return (
            f"{self.path} was written by a newer smoothbench (store schema {version}; this "
            f"version reads up to {SCHEMA_VERSION}): upgrade smoothbench to read it"
        )

    def has_table(self, name: str) -> bool:
        return name in self._tables()

    def certificate_alphas(self) -> list[float]:
        """The alphas of the store's Monte Carlo and imported certificates, sorted."""
        sql = "SELECT DISTINCT alpha FROM certificates"
        if self.has_table("imported"):
            sql += " UNION SELECT DISTINCT alpha FROM imported"
        return sorted({float(a) for (a,) in self.query(sql)})

    @classmethod
    def open_existing(cls, path: str | Path, *, readonly: bool = False) -> Store:
        """Open a store that must already exist (for certify and report). The plugin files
        it was written with are noted (``smoothbench.plugins.note_recorded``), so that a name
        this process does not know is answered with the file to load."""
        if Path(path).is_dir():
            raise StoreError(f"{path} is a directory, not a store file; give a file path")
        if not Path(path).is_file():
            raise FileNotFoundError(f"no store at {path}")
        if Path(path).stat().st_size == 0:  # SQLite would make it a new, empty store
            raise ValueError(f"{path} is an empty file, not a smoothbench store")
        store = cls(path, readonly=readonly)
        try:
            plugins.note_recorded(
                store.get_manifest("plugins") or [], store.get_manifest("plugin_registrations")
            )
        except BaseException:
            store.close()
            raise
        return store

    def _check_same_file(self) -> None:
        """Refuse to write on when the path no longer names the file this writer opened
        (deleted, or another moved in its place): SQLite would go on writing to a file no
        path names, and leave its write-ahead log beside the newcomer. A reader checks
        nothing (``_file`` is None)."""
        if self._file is not None and _file_id(self._where) != self._file:
            self._file = None  # said once
            self._db.close()
            wal = beside(self._where, "-wal")
            if wal.exists():  # ours (we hold the lock): never to be laid over the newcomer
                wal.rename(wal.with_name(f"{wal.name}.orphaned-{os.getpid()}"))
            beside(self._where, "-shm").unlink(missing_ok=True)
            raise StoreError(
                f"{self.path} was deleted or replaced while this command wrote it: the rows "
                "written since are in no file; run the same command again (it goes on from "
                "what the path holds now)"
            )

    def close(self) -> None:
        try:
            self._check_same_file()
        finally:
            try:
                self._db.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together or not at all. On an error SQLite may
        already have rolled the transaction back itself (a full disk, an I/O error), so
        the rollback here is issued only while one is open, and never hides the error."""
        self._check_same_file()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the error being raised says more; closing rolls back anyway

    # manifest -------------------------------------------------------------------
    def _put_manifest(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO manifest(key, value) VALUES (?, ?)",
            (key, json.dumps(value, sort_keys=True)),
        )

    def put_manifest(
        self, entries: dict[str, Any], noises: dict[str, dict[str, Any]] | None = None
    ) -> None:
        """Write manifest entries, and with ``noises`` the noise specs too, in one
        transaction: a run stopped in between would otherwise leave the specs of a config
        that never recorded a manifest, which a later run's report would list."""
        with self.transaction():
            self._put_noises(noises or {})
            for key, value in entries.items():
                self._put_manifest(key, value)

    def get_manifest(self, key: str) -> Any:
        """The manifest's entry ``key`` (None where it has none); an entry without the
        shape smoothbench writes (``harness.manifest_shapes``) is a ``StoreError``."""
        row = self._db.execute("SELECT value FROM manifest WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._checked(key, row[0])

    def manifest(self) -> dict[str, Any]:
        """Every manifest entry, each checked as ``get_manifest`` checks it."""
        rows = self._db.execute("SELECT key, value FROM manifest ORDER BY key").fetchall()
        return {k: self._checked(k, v) for k, v in rows}

    def _checked(self, key: str, text: str) -> Any:
        try:
            value = json.loads(text)
        except ValueError:
            value = _UNREADABLE
        if key == "imported_confidence_spent" and isinstance(value, dict):
            value = self._spending_per_group(value)
        fault = "it is not JSON" if value is _UNREADABLE else manifest_fault(key, value)
        if fault is not None:
            raise StoreError(
                f"{self.path}: the manifest's {key} is damaged ({fault}); smoothbench never "
                "writes it so: was the store edited by hand? Use a copy made before, or "
                "sample a new store"
            )
        return value

    def _spending_per_group(self, per_source: dict[str, Any]) -> list[list] | dict:
        """``imported_confidence_spent`` as written before it was kept per group,
        ``{source: spent}``, in today's form: an entry for each imported group of the
        source (the groups a source's rows hold are its certificates). Left as it is where
        a value is no probability (the shape check then names it)."""
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1
            for v in per_source.values()
        ):
            return per_source
        sql = "SELECT DISTINCT model, noise, certifier, norm, alpha FROM imported WHERE source = ?"
        groups = {
            source: self.query(sql, (source,)) if self.has_table("imported") else []
            for source in per_source
        }
        return [
            [*group, source, spent]
            for source, spent in sorted(per_source.items())
            if spent > 0
            for group in sorted(groups[source])
        ]

    # noises ---------------------------------------------------------------------
    def put_noises(self, specs: dict[str, dict[str, Any]]) -> None:
        with self.transaction():
            self._put_noises(specs)

    def _put_noises(self, specs: dict[str, dict[str, Any]]) -> None:
        for name, spec in specs.items():
            self._db.execute(
                "INSERT OR IGNORE INTO noises(noise, spec) VALUES (?, ?)",
                (name, json.dumps(spec, sort_keys=True)),
            )

    def noise_specs(self) -> dict[str, dict[str, Any]]:
        rows = self._db.execute("SELECT noise, spec FROM noises").fetchall()
        return {name: json.loads(spec) for name, spec in rows}

    # counts ---------------------------------------------------------------------
    def put_counts(self, rows: Iterable[CountRow]) -> None:
        """Write count rows atomically (all of them, or none)."""
        with self.transaction() as db:
            for r in rows:
                db.execute(
                    "INSERT INTO counts(model, noise, image, label, n0, n, selection,"
                    " estimation, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.model,
                        r.noise,
                        int(r.image),
                        int(r.label),
                        r.n0,
                        r.n,
                        json.dumps([int(c) for c in r.selection]),
                        json.dumps([int(c) for c in r.estimation]),
                        float(r.seconds),
                    ),
                )

    def done_keys(self) -> set[tuple[str, str, int]]:
        rows = self._db.execute("SELECT model, noise, image FROM counts").fetchall()
        return {(m, nz, int(i)) for m, nz, i in rows}

    def count_rows(self) -> list[CountRow]:
        """Every count row, validated on read: counts that do not parse as integer
        vectors, whose classes differ between selection and estimation, or whose totals
        are not the run's n0 and n (from the manifest) are refused with a
        ``StoreError`` naming the row: a store edited or damaged by hand is never
        certified or reported silently."""
        n0, n = self.get_manifest("n0"), self.get_manifest("n")
        rows = self._db.execute(
            "SELECT model, noise, image, label, n0, n, selection, estimation, seconds"
            " FROM counts ORDER BY model, noise, image"
        ).fetchall()
        out = []
        for m, nz, i, lab, row_n0, row_n, s, e, sec in rows:
            where = f"{self.path}: the counts of ({m}, {nz}, image {i})"
            try:
                sel = np.asarray(json.loads(s))
                est = np.asarray(json.loads(e))
                if not (
                    np.issubdtype(sel.dtype, np.integer) and np.issubdtype(est.dtype, np.integer)
                ):
                    raise ValueError("not integer counts")
                row = CountRow(m, nz, int(i), int(lab), sel.astype(np.int64),
                               est.astype(np.int64), float(sec))  # fmt: skip
            except (ValueError, TypeError) as err:
                raise StoreError(f"{where} are unreadable ({err}): the store is damaged") from None
            totals = (row.n0, row.n)
            if totals != (row_n0, row_n) or (n0 is not None and totals != (n0, n)):
                raise StoreError(
                    f"{where} total {row.n0} selection and {row.n} estimation draws, but the "
                    f"run drew n0 = {n0} and n = {n}: the store was edited or is damaged"
                )
            out.append(row)
        return out

    # certificates ---------------------------------------------------------------
    def put_certificates(
        self,
        rows: Iterable[CertificateRow],
        dropped: Iterable[tuple[str, str, str, str]] = (),
        manifest: Mapping[str, Any] | None = None,
    ) -> None:
        """Write certificates; the audit summary of a (certifier, norm) whose stored
        certificates this changes or adds is dropped: it spoke of other certificates.
        In the same transaction: the stored certificates of the ``dropped`` groups
        ``(model, noise, certifier, norm)``, at every alpha, are deleted first (a certifier
        that fails on them now: rows of its earlier code would stand beside the failure),
        and the ``manifest`` entries are written (the failures that go with these rows)."""
        rows = list(rows)
        with self.transaction() as db:
            for group in sorted(set(dropped)):
                where = "model = ? AND noise = ? AND certifier = ? AND norm = ?"
                self._drop_certificates(db, where, group)
            for key, value in (manifest or {}).items():
                self._put_manifest(key, value)
            changed = set()
            stored: dict[tuple, tuple] = {}  # one query per (model, noise), not per row
            for model, noise in {(r.model, r.noise) for r in rows}:
                for i, c, nm, a, pred, pl, rad in db.execute(
                    "SELECT image, certifier, norm, alpha, prediction, p_lower, radius"
                    " FROM certificates WHERE model = ? AND noise = ?",
                    (model, noise),
                ):
                    stored[(model, noise, i, c, nm, a)] = (pred, pl, rad)
            for r in rows:
                key = (r.model, r.noise, int(r.image), r.certifier, r.norm, float(r.alpha))
                if stored.get(key) != (int(r.prediction), float(r.p_lower), float(r.radius)):
                    changed.add((r.certifier, r.norm))
            if changed and self.has_table("audit"):
                db.executemany(
                    "DELETE FROM audit WHERE certifier = ? AND norm = ?", sorted(changed)
                )
            db.executemany(
                "INSERT OR REPLACE INTO certificates(model, noise, image, certifier, norm,"
                " alpha, prediction, p_lower, radius, correct, confidence_spent)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.model,
                        r.noise,
                        int(r.image),
                        r.certifier,
                        r.norm,
                        float(r.alpha),
                        int(r.prediction),
                        float(r.p_lower),
                        float(r.radius),
                        int(bool(r.correct)),
                        float(r.confidence_spent),
                    )
                    for r in rows
                ],
            )

    # imported certificates -------------------------------------------------------
    def put_imported(
        self,
        rows: Iterable[ImportedRow],
        noises: dict[str, dict[str, Any]] | None = None,
        incomplete: Collection[str] = (),
        spent: Mapping[tuple[str, str, str, str, float, str], float] | None = None,
    ) -> int:
        """Write imported rows, and the specs of their ``noises``, atomically. Rows of a
        group (model, noise, certifier, norm, alpha) replace that group's rows from the
        same source file; a group that already holds rows from another file is refused
        (import it under another model name, or remove the old rows). ``incomplete``: the
        sources among the rows' that their export listed as incomplete (the manifest's
        ``imported_incomplete``, which the report warns of; a source imported again
        complete leaves it). ``spent``: per group and source of the rows, ``(model,
        noise, certifier, norm, alpha, source)``, the failure probability its certificates
        spend beyond alpha (the manifest's ``imported_confidence_spent``: a list of
        ``[model, noise, certifier, norm, alpha, source, spent]`` for the groups that spend
        some; the groups written replace theirs). Returns the rows written."""
        rows = list(rows)
        groups = {(r.model, r.noise, r.certifier, r.norm, float(r.alpha), r.source) for r in rows}
        with self.transaction() as db:
            self._put_noises(noises or {})
            before = self.get_manifest("imported_incomplete")
            sources = {g[-1] for g in groups}
            listed = (set(before or []) - sources) | (set(incomplete) & sources)
            if listed or before is not None:
                self._put_manifest("imported_incomplete", sorted(listed))
            spending = self.get_manifest("imported_confidence_spent")
            kept = {k: v for k, v in imported_spent(spending).items() if k not in groups}
            kept |= {k: float(v) for k, v in (spent or {}).items() if k in groups and v > 0}
            if kept or spending is not None:
                entries = [[*k, v] for k, v in sorted(kept.items(), key=lambda kv: str(kv[0]))]
                self._put_manifest("imported_confidence_spent", entries)
            for model, noise, certifier, norm, alpha, source in sorted(groups):
                key = (model, noise, certifier, norm, alpha)
                where = "model = ? AND noise = ? AND certifier = ? AND norm = ? AND alpha = ?"
                others = db.execute(
                    f"SELECT DISTINCT source FROM imported WHERE {where} AND source != ?",
                    (*key, source),
                ).fetchall()
                if others:
                    raise ValueError(
                        f"{self.path} already holds imported rows for model {model!r}, noise "
                        f"{noise!r}, certifier {certifier!r}, {norm}, alpha {alpha:g} from "
                        f"{others[0][0]}; import {source} under another --model"
                    )
                db.execute(f"DELETE FROM imported WHERE {where} AND source = ?", (*key, source))
            db.executemany(
                "INSERT INTO imported(dataset, model, noise, certifier, norm, alpha, image,"
                " label, prediction, radius, correct, seconds, source)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (  # one tuple at a time: millions of rows need not be held twice
                    (
                        r.dataset, r.model, r.noise, r.certifier, r.norm, float(r.alpha),
                        int(r.image), int(r.label), int(r.prediction), float(r.radius),
                        int(bool(r.correct)), float(r.seconds), r.source,
                    )
                    for r in rows
                ),
            )  # fmt: skip
        return len(rows)

    def imported_rows(self) -> list[ImportedRow]:
        rows = self._db.execute(
            "SELECT dataset, model, noise, certifier, norm, alpha, image, label, prediction,"
            " radius, correct, seconds, source FROM imported"
            " ORDER BY model, noise, certifier, norm, alpha, image"
        ).fetchall()
        return [
            ImportedRow(d, m, nz, c, nm, a, int(i), int(lab), int(p), r, bool(ok), sec, src)
            for d, m, nz, c, nm, a, i, lab, p, r, ok, sec, src in rows
        ]

    # deterministic certificates -------------------------------------------------------
    def put_deterministic(
        self, certificates: Iterable[DeterministicRow], radii: Iterable[DeterministicRadiusRow]
    ) -> None:
        """Write deterministic certificates and radii atomically (all of them, or none)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO deterministic_certificates(model, image, certifier,"
                " norm, eps, certified, margin, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.model, int(r.image), r.certifier, r.norm, float(r.eps),
                     int(bool(r.certified)), float(r.margin), float(r.seconds))
                    for r in certificates
                ],
            )  # fmt: skip
            db.executemany(
                "INSERT OR REPLACE INTO deterministic_radii(model, image, certifier, norm,"
                " label, prediction, radius, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.model, int(r.image), r.certifier, r.norm, int(r.label),
                     int(r.prediction), float(r.radius), float(r.seconds))
                    for r in radii
                ],
            )  # fmt: skip

    def record_deterministic_options(
        self, options: dict[str, dict[str, Any]], versions: dict[str, int] | None = None
    ) -> list[str]:
        """Record the options of deterministic certifiers (``certifier_options``) and,
        with ``versions``, their ``method_version`` (``deterministic_versions``), and drop,
        in the same transaction, the stored certificates, radii and audit rows of each
        certifier whose options that decide a bound (all but ``batch_size``) or whose
        method version changed (a store written before versions were recorded counts as
        changed): they were made otherwise, and a run then certifies every image again (a
        crash in between leaves fewer rows, never old ones under new options). Returns
        the certifiers whose rows were dropped."""
        with self.transaction() as db:
            recorded = dict(self.get_manifest("certifier_options") or {})
            made_by = dict(self.get_manifest("deterministic_versions") or {})
            changed = sorted(
                name
                for name, new in options.items()
                if name in recorded
                and (
                    _deciding(recorded[name]) != _deciding(new)
                    or (versions is not None and made_by.get(name) != versions[name])
                )
            )
            tables = ["deterministic_certificates", "deterministic_radii"]
            if self.has_table("audit"):
                tables.append("audit")
            for name in changed:
                for table in tables:
                    db.execute(f"DELETE FROM {table} WHERE certifier = ?", (name,))
            self._put_manifest("certifier_options", {**recorded, **options})
            if versions is not None:
                self._put_manifest("deterministic_versions", {**made_by, **versions})
        return changed

    def record_certifier_options(self, options: dict[str, dict[str, Any]]) -> list[str]:
        """Record the options of smoothing certifiers (``certifier_options``) and drop, in
        the same transaction, the stored certificates and audit rows of each certifier
        whose recorded options differ: they were made otherwise, and a certify rewrites
        only the alphas it is asked for (a crash in between leaves fewer rows, never old
        ones under new options). Returns the certifiers whose rows were dropped."""
        options = json.loads(json.dumps(options, sort_keys=True))
        with self.transaction() as db:
            recorded = dict(self.get_manifest("certifier_options") or {})
            changed = sorted(
                name for name, new in options.items() if name in recorded and recorded[name] != new
            )
            for name in changed:
                self._drop_certificates(db, "certifier = ?", (name,))
            self._put_manifest("certifier_options", {**recorded, **options})
        return changed

    def record_law_distance(self, noise: str, distance: float) -> bool:
        """Record the law distance ``p_lower`` is lowered by for ``noise``
        (``law_distances``) and, where another was recorded, drop in the same transaction
        the certificates of that noise and the audit rows of their (certifier, norm):
        they were made with the other distance. A store with no record for the noise was
        certified before any was subtracted: its certificates are of distance 0. Returns
        whether the distance changed (rows, if any, were dropped)."""
        with self.transaction() as db:
            distances = dict(self.get_manifest("law_distances") or {})
            changed = distances.get(noise, 0.0) != distance
            if changed:
                self._drop_certificates(db, "noise = ?", (noise,))
            if distances.get(noise) != distance:
                self._put_manifest("law_distances", {**distances, noise: distance})
        return changed

    def _drop_certificates(self, db: sqlite3.Connection, where: str, args: tuple) -> None:
        """Delete the certificates matching ``where`` and the audit rows of every
        (certifier, norm) they belong to (the audit spoke of them)."""
        if self.has_table("audit"):
            db.executemany(
                "DELETE FROM audit WHERE certifier = ? AND norm = ?",
                db.execute(
                    f"SELECT DISTINCT certifier, norm FROM certificates WHERE {where}", args
                ).fetchall(),
            )
        db.execute(f"DELETE FROM certificates WHERE {where}", args)

    def deterministic_done(
        self, model: str, certifier: str, norm: str, eps_grid: Iterable[float]
    ) -> set[int]:
        """The images with a radius and a certificate at every eps of ``eps_grid``."""
        grid = {float(e) for e in eps_grid}
        have: dict[int, set[float]] = {}
        for image, eps in self._db.execute(
            "SELECT image, eps FROM deterministic_certificates"
            " WHERE model = ? AND certifier = ? AND norm = ?",
            (model, certifier, norm),
        ):
            have.setdefault(int(image), set()).add(float(eps))
        radii = {
            int(i)
            for (i,) in self._db.execute(
                "SELECT image FROM deterministic_radii WHERE model = ? AND certifier = ?"
                " AND norm = ?",
                (model, certifier, norm),
            )
        }
        return {i for i in radii if grid <= have.get(i, set())}

    # audit ----------------------------------------------------------------------
    def put_audit(self, rows: Iterable[AuditRow]) -> int:
        """Replace the audit summary by ``rows`` (one transaction); returns their number."""
        rows = list(rows)
        with self.transaction() as db:
            db.execute("DELETE FROM audit")
            db.executemany(
                "INSERT INTO audit(audit, certifier, noise, norm, model, trials, failures,"
                " alpha, confidence_spent, p_value, mean_certified, mean_empirical, passed,"
                " settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.audit, r.certifier, r.noise, r.norm, r.model, int(r.trials),
                     int(r.failures), float(r.alpha), float(r.confidence_spent),
                     float(r.p_value), _optional(r.mean_certified),
                     _optional(r.mean_empirical), int(bool(r.passed)),
                     json.dumps(r.settings, sort_keys=True))
                    for r in rows
                ],
            )  # fmt: skip
        return len(rows)

    def audit_rows(self) -> list[AuditRow]:
        """The stored audit summary (empty when never audited, or a store too old to
        have the table)."""
        if not self.has_table("audit"):
            return []
        rows = self._db.execute("SELECT * FROM audit ORDER BY 1, 2, 3, 4, 5").fetchall()
        return [
            AuditRow(a, c, nz, nm, m, int(t), int(f), al, sp, p, mc, me, bool(ok), json.loads(st))
            for a, c, nz, nm, m, t, f, al, sp, p, mc, me, ok, st in rows
        ]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read-only access for reports."""
        return self._db.execute(sql, params).fetchall()

    def query_chunks(
        self, sql: str, params: tuple = (), rows: int = 1 << 14
    ) -> Iterator[list[tuple]]:
        """``query``'s rows, ``rows`` at a time: a report reads millions of certificates
        without holding them all as Python tuples at once."""
        cursor = self._db.execute(sql, params)
        while chunk := cursor.fetchmany(rows):
            yield chunk

    def table_rows(self, table: str) -> list[tuple]:
        order = {
            "manifest": "1",
            "noises": "1",
            "counts": "1, 2, 3",
            "certificates": "1, 2, 3, 4, 5, 6",
            "imported": "2, 3, 4, 5, 6, 7",
            "deterministic_certificates": "1, 2, 3, 4, 5",
            "deterministic_radii": "1, 2, 3, 4",
            "audit": "1, 2, 3, 4, 5",
        }
        if table not in order:
            raise ValueError(f"unknown table {table!r}")
        return self._db.execute(f"SELECT * FROM {table} ORDER BY {order[table]}").fetchall()


def _optional(value: float | None) -> float | None:
    return None if value is None else float(value)


def _deciding(options: Any) -> dict[str, Any]:
    """The options that decide a deterministic certificate (all but ``batch_size``)."""
    return {k: v for k, v in dict(options or {}).items() if k != "batch_size"}


def imported_spent(entries: list[list] | None) -> dict[tuple, float]:
    """The manifest's ``imported_confidence_spent`` (``Store.put_imported``)
    as ``(model, noise, certifier, norm, alpha, source) -> spent``."""
    return {(*e[:4], float(e[4]), e[5]): float(e[6]) for e in entries or []}
