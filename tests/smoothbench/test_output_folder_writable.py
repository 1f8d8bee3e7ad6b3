"""An output folder that cannot be written is refused before the work: ``audit`` ran its
attacks and stored its rows, then lost ``audit.txt``; ``report`` failed after its checks
(CLI audit). Root writes everywhere, so the refusal is shown by making the probe file fail;
the probe leaves nothing behind."""

from __future__ import annotations

import errno
import tempfile

import pytest

import reports.cli
import smoothbench.output_folder as output_folder
from harness.cli import main
from smoothbench.output_folder import check_output_folder


def _deny(monkeypatch, denied):
    """No file can be made in ``denied`` (as ``chmod 555`` does for a user who is not root)."""
    real = tempfile.TemporaryFile

    def temporary_file(*args, dir=None, **kwargs):
        if str(dir) == str(denied):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(output_folder.tempfile, "TemporaryFile", temporary_file)


@pytest.mark.parametrize("below", ["", "new/deeper"])
def test_a_folder_that_cannot_be_written_is_refused(tmp_path, monkeypatch, below):
    """The folder itself, or the nearest one above it that exists (where it would be made)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    out = locked / below if below else locked
    assert check_output_folder(out) == out  # writable: taken, and nothing left there
    assert list(locked.iterdir()) == []
    _deny(monkeypatch, locked)
    with pytest.raises(PermissionError, match=rf"^--out {out}: {locked} cannot be written here"):
        check_output_folder(out)


def test_report_refuses_it_before_reading_the_store(tmp_path, monkeypatch, capsys):
    def never(*args, **kwargs):
        raise AssertionError("the report was made before --out was checked")

    monkeypatch.setattr(reports.cli, "make_report", never)
    _deny(monkeypatch, tmp_path)
    assert main(["report", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert f"--out {tmp_path / 'o'}: {tmp_path} cannot be written here" in err
