"""An output folder named on the command line, checked before the work whose results go
there: a folder that exists, or one that ``mkdir`` can make (its nearest existing parent is
a folder). Found after minutes of work, the same mistake would lose them.

A command that writes such a folder again (``report``, ``export``) lists what it wrote in
an index there, and deletes what its previous index listed and it did not write again, so
that the folder holds one result, not this one beside the files of an earlier one. It
writes the whole result to a hidden folder inside first (``staged_output``) and moves the
files into place only once all are written, so that a result that fails part-way (a full
disk, an error, Ctrl-C) replaces nothing of the earlier one.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

#: The name a staging folder begins with, then the machine's name and the writing
#: process's id (``staged_output``).
STAGING_PREFIX = ".smoothbench-writing-"
#: The end of the hidden name a file of a result waits under beside its target.
MOVING_SUFFIX = ".smoothbench-moving"


def check_output_folder(out: str | Path, option: str = "--out") -> Path:
    """``out`` as a path; ``ValueError`` (bad input) naming ``option`` when ``out`` is an
    existing file or lies below one, ``PermissionError`` when no file can be made in the
    folder, or in the nearest one above it that exists (checked before the work, not found
    after it)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option} {out}: an existing file; {option} must be a folder")
    above = next((p for p in out.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise ValueError(f"{option} {out}: {above} is a file, so no folder can be made below it")
    writable = out if out.exists() else above
    if writable is not None:
        # a file made and dropped, not os.access: network and ACL file systems answer
        # that for the real user and local permission bits only
        try:
            with tempfile.TemporaryFile(dir=writable, prefix=".smoothbench-probe-"):
                pass
        except OSError as err:
            raise PermissionError(
                f"{option} {out}: {writable} cannot be written here ({err.strerror}); "
                f"choose another {option}"
            ) from None
    return out


def files_listed_below(out: Path, names: Iterable[object], suffixes: Collection[str]) -> set[Path]:
    """The files an earlier index in ``out`` lists by ``names`` (paths relative to
    ``out``): those that exist, end in one of ``suffixes`` and lie below ``out`` once
    links are resolved. Anything else an index could name (a path outside the folder, a
    file of another kind, a name that is not a string) is never touched."""
    root = out.resolve()
    listed = {out / name for name in names if isinstance(name, str) and name}
    return {
        path
        for path in listed
        if path.suffix in suffixes and path.resolve().is_relative_to(root) and path.is_file()
    }


def remove_outputs(out: Path, stale: Iterable[Path]) -> list[Path]:
    """Delete ``stale`` (files below ``out`` that an earlier index listed and this write did
    not write again), then the folders below ``out`` they leave empty; returns the files
    deleted, in order."""
    removed = []
    for path in sorted(stale):
        path.unlink(missing_ok=True)
        removed.append(path)
        folder, root = path.parent, out.resolve()
        while folder.resolve() != root and folder.resolve().is_relative_to(root):
            try:
                folder.rmdir()  # only an empty one
            except OSError:
                break
            folder = folder.parent
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process; not a pid at all
        return True
    return True


def _host() -> str:
    """This machine's name, letters and digits only."""
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"


def _staging_prefix() -> str:
    """``STAGING_PREFIX``, this machine's name and this process's id: a folder another
    machine writes to a shared ``--out`` is never taken for an abandoned one here."""
    return f"{STAGING_PREFIX}{_host()}-{os.getpid()}-"


def _moving_suffix() -> str:
    """The end of the hidden name a file waits under beside its target (``move_in``):
    this machine's name and this process's id, as a staging folder's."""
    return f".{_host()}-{os.getpid()}{MOVING_SUFFIX}"


def _remove_abandoned(out: Path) -> None:
    """Staging folders, and files waiting beside their targets (``move_in``), that this
    machine left in ``out`` and whose process no longer runs (killed while it wrote)."""
    host = _host()
    for folder in out.glob(f"{STAGING_PREFIX}{host}-*"):
        pid = folder.name[len(f"{STAGING_PREFIX}{host}-") :].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    for waiting in out.rglob(f".*.{host}-*{MOVING_SUFFIX}"):
        pid = waiting.name[: -len(MOVING_SUFFIX)].rsplit("-", 1)[-1]
        if waiting.is_file() and pid.isdigit() and not _running(int(pid)):
            waiting.unlink(missing_ok=True)


@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """A hidden folder inside ``out`` (made where missing) to write a whole result to, in
    the layout it will have in ``out``; ``move_in`` then moves its files into place. When
    the block fails (a full disk, an error, Ctrl-C) the folder is removed and ``out``
    holds what it held. What a process of this machine killed while it wrote left
    (``_remove_abandoned``) is removed by the next staging folder made in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out)
    stage = Path(tempfile.mkdtemp(prefix=_staging_prefix(), dir=out))
    try:
        yield stage
    finally:
        with suppress(OSError):
            shutil.rmtree(stage)


def _make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and the folders above it that are missing; returns those made,
    outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(exist_ok=True)
    return missing[::-1]


def move_in(
    stage: Path, out: Path, before_replacing: Callable[[], object] | None = None
) -> list[Path]:
    """Move every file below ``stage`` to the same place below ``out``; returns where
    they went. In two steps, so that a failure (a folder or a file in the way, a subfolder
    on another file system that is full or read-only) replaces nothing: each file first
    goes to a hidden name beside its target (renamed there, or copied where the target's
    folder is on another file system), and only once all are there is each renamed onto
    its target (``os.replace``: one step, no space needed), after ``before_replacing``
    (an index that says files are being replaced). A failure in the first step removes
    what it placed and the folders it made; one in the second (rare: a file locked, a
    signal) leaves the files not yet renamed nowhere."""
    placed: list[tuple[Path, Path]] = []
    made: list[Path] = []
    try:
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            target = out / path.relative_to(stage)
            if target.is_dir():
                raise IsADirectoryError(
                    errno.EISDIR, "a folder stands where a file of the result goes", str(target)
                )
            made += _make_folders(target.parent)
            beside = target.with_name(f".{target.name}{_moving_suffix()}")
            try:
                os.replace(path, beside)
            except OSError as err:
                if err.errno != errno.EXDEV:
                    raise
                placed.append((beside, target))  # removed on failure, even half-copied
                shutil.copy2(path, beside)
                continue
            placed.append((beside, target))
        if before_replacing is not None:
            before_replacing()
    except BaseException:
        for beside, _ in placed:
            beside.unlink(missing_ok=True)
        for folder in reversed(made):
            with suppress(OSError):
                folder.rmdir()  # only an empty one
        raise
    done = 0
    try:
        for beside, target in placed:
            os.replace(beside, target)
            done += 1
    except BaseException:
        for beside, _ in placed[done:]:
            beside.unlink(missing_ok=True)
        raise
    return [target for _, target in placed]
