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


def test_a_failed_first_step_removes_the_folders_it_made(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "z.json").mkdir()  # a folder where a file goes: found after plots/ was made
    with pytest.raises(IsADirectoryError), staged_output(out) as stage:
        _result(stage)
        move_in(stage, out)
    assert sorted(p.name for p in out.iterdir()) == ["z.json"]  # no plots/, nothing hidden


def test_a_failed_second_step_leaves_no_hidden_file(tmp_path, monkeypatch):
    """A rename onto a target that fails (a file locked, a signal) part-way through."""
    out = tmp_path / "out"
    _earlier(out)
    real, calls = os.replace, []

    def replace(src, dst):
        if str(src).endswith(output_folder.MOVING_SUFFIX):
            calls.append(dst)
            if len(calls) == 3:
                raise OSError(errno.EBUSY, "Device or resource busy", str(dst))
        return real(src, dst)

    monkeypatch.setattr(output_folder.os, "replace", replace)
    with pytest.raises(OSError, match="busy"), staged_output(out) as stage:
        _result(stage)
        move_in(stage, out)
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]


def test_files_waiting_beside_their_targets_name_the_machine_and_are_swept_when_dead(
    tmp_path, monkeypatch
):
    """Two machines writing one shared folder can have the same process id (containers):
    a file waiting beside its target carries the machine's name too (review), and one
    that a killed process of this machine left is removed by the next write there, while
    another machine's is left alone."""
    import subprocess
    import sys

    out = tmp_path / "out"
    seen = []
    real = os.replace

    def replace(src, dst):
        seen.append(Path(dst).name)
        return real(src, dst)

    monkeypatch.setattr(output_folder.os, "replace", replace)
    with staged_output(out) as stage:
        _result(stage)
        move_in(stage, out)
    host = output_folder._host()
    waiting = [name for name in seen if name.endswith(output_folder.MOVING_SUFFIX)]
    assert len(waiting) == 5 and all(f".{host}-{os.getpid()}." in n for n in waiting)

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = out / "plots" / f".c.png.{host}-{int(gone.stdout)}{output_folder.MOVING_SUFFIX}"
    other = out / "plots" / f".c.png.elsewhere-{int(gone.stdout)}{output_folder.MOVING_SUFFIX}"
    for leftover in (dead, other):
        leftover.write_bytes(b"half")
    with staged_output(out):
        pass
    assert not dead.exists() and other.exists()
