"""Atomic writes: the old file survives a failed write, no temporary is left behind, and a
new file gets the permissions a plain ``open`` would give it."""

from __future__ import annotations

import stat

import pytest

from smoothbench.atomic import atomic_path, write_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "leaderboard.md"
    write_atomic(target, "good\n")
    with pytest.raises(OSError, match="No space"), atomic_path(target) as tmp:
        tmp.write_text("half a tab")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["leaderboard.md"]


def test_written_files_get_the_permissions_of_a_plain_open(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = write_atomic(tmp_path / "atomic.txt", "x")
    assert stat.S_IMODE(atomic.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
