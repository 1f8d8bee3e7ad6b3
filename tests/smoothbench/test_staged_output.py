"""``staged_output`` and ``move_in``: a whole result is written to a hidden folder in the
output folder, then moved in so that a failure part-way replaces nothing. File systems
are simulated: a rename that crosses one raises EXDEV (a subfolder of the output folder
linked to another disk), and a copy there can fail (that disk full)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from smoothbench import output_folder
from smoothbench.output_folder import STAGING_PREFIX, move_in, staged_output


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _result(stage: Path) -> None:
    for name in ("a.md", "b.csv", "plots/c.png", "plots/d.png", "z.json"):
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(f"new {name}\n")


def _earlier(out: Path) -> None:
    for name in ("a.md", "b.csv", "plots/c.png", "plots/d.png", "z.json", "notes.txt"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(f"old {name}\n")


@pytest.fixture
def other_disk(monkeypatch):
    """``plots/`` on another file system: a rename into it raises EXDEV."""
    real = os.replace

    def replace(src, dst):
        if Path(dst).parent.name == "plots" and STAGING_PREFIX in str(src):
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))
        return real(src, dst)

    monkeypatch.setattr(output_folder.os, "replace", replace)


def test_a_subfolder_on_another_file_system_gets_its_files(tmp_path, other_disk):
    out = tmp_path / "out"
    _earlier(out)
    with staged_output(out) as stage:
        _result(stage)
        moved = move_in(stage, out)
    assert len(moved) == 5
    assert _tree(out) == {
        **{name: f"new {name}\n".encode() for name in ("a.md", "b.csv", "plots/c.png",
                                                      "plots/d.png", "z.json")},
        "notes.txt": b"old notes.txt\n",
    }  # fmt: skip


def test_a_full_other_file_system_replaces_nothing(tmp_path, other_disk, monkeypatch):
    out = tmp_path / "out"
    _earlier(out)
    before = _tree(out)
    calls = []

    def copy2(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            Path(dst).write_text("half")
            raise OSError(errno.ENOSPC, "No space left on device")
        return shutil.copy2(src, dst)

    monkeypatch.setattr(output_folder.shutil, "copy2", copy2)
    with pytest.raises(OSError, match="No space"), staged_output(out) as stage:
        _result(stage)
        move_in(stage, out)
    assert _tree(out) == before  # no file replaced, no half copy or staging folder left


def test_nothing_is_replaced_when_the_index_cannot_be_written_first(tmp_path):
    out = tmp_path / "out"
    _earlier(out)
    before = _tree(out)

    def index_fails():
        raise OSError(errno.EACCES, "Permission denied", str(out / "index.json"))

    with pytest.raises(OSError, match="Permission"), staged_output(out) as stage:
        _result(stage)
        move_in(stage, out, index_fails)
    assert _tree(out) == before
