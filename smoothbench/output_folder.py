"""An output folder named on the command line, checked before the work whose results go
there: a folder that exists, or one that ``mkdir`` can make (its nearest existing parent is
a folder). Found after minutes of work, the same mistake would lose them.

A command that writes such a folder again (``report``, ``export``) lists what it wrote in
an index there, and deletes what its previous index listed and it did not write again, so
that the folder holds one result, not this one beside the files of an earlier one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path


def check_output_folder(out: str | Path, option: str = "--out") -> Path:
    """``out`` as a path; ``ValueError`` (bad input) naming ``option`` when ``out`` is an
    existing file or lies below one."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option} {out}: an existing file; {option} must be a folder")
    above = next((p for p in out.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise ValueError(f"{option} {out}: {above} is a file, so no folder can be made below it")
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
