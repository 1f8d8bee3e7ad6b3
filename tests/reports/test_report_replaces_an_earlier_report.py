"""A report written into a folder that holds an earlier report replaces it: after the
second, the folder holds what a report into a fresh folder holds (the default ``--out``
is ``out/`` for every store, so the first report's figures and JSON entries of rows the
second does not show stayed beside it); files no report wrote are left alone, and so is
whatever a damaged or foreign index names outside the folder or of another kind."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.certify import certify_store
from harness.cli import main
from reports.cli import REPORT_INDEX
from tests.reports._report_synth import winner_store

FORMATS = ["--format", "json", "plots", "md"]


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _folders(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir()}


def test_a_narrower_report_leaves_only_its_own_files(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    with winner_store(store, n_images=40) as st:
        certify_store(st, ["cohen"], ["l2"], [0.01], progress=False)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    mine = out / "notes.txt"
    out.mkdir()
    mine.write_text("not the report's")
    assert main(["report", str(store), "--out", str(out), *FORMATS]) == 0
    first = _files(out)
    assert any("m-low" in f for f in first)  # the first shows every model and alpha
    assert any("a0.01/" in f for f in first)
    narrower = ["--model", "m-win", "--alpha", "0.001", *FORMATS]
    assert main(["report", str(store), "--out", str(out), *narrower]) == 0
    said = capsys.readouterr().out
    assert main(["report", str(store), "--out", str(fresh), *narrower]) == 0
    assert _files(out) == _files(fresh) | {"notes.txt"}
    assert _folders(out) == _folders(fresh)  # no folder left empty (entries of alpha 0.01)
    assert mine.read_text() == "not the report's"
    gone = len(first - _files(out))
    assert gone > 0 and f"removed {gone} files of the earlier report" in said


def test_an_index_names_nothing_outside_the_folder_or_of_another_kind(tmp_path):
    store = tmp_path / "s.sqlite"
    winner_store(store, n_images=20).close()
    out, outside = tmp_path / "out", tmp_path / "keep.png"
    out.mkdir()
    outside.write_bytes(b"png")
    (out / "data.sqlite").write_bytes(b"db")
    listed = ["../keep.png", str(outside), "data.sqlite", 7, None]
    (out / REPORT_INDEX).write_text(json.dumps({"files": listed}))
    assert main(["report", str(store), "--out", str(out), "--format", "md"]) == 0
    assert outside.read_bytes() == b"png" and (out / "data.sqlite").read_bytes() == b"db"
    for damaged in ("{not json", json.dumps({"files": "leaderboard.md"}), json.dumps([1])):
        (out / REPORT_INDEX).write_text(damaged)
        assert main(["report", str(store), "--out", str(out), "--format", "md"]) == 0
        assert (out / "leaderboard.md").is_file()
    index = json.loads((out / REPORT_INDEX).read_text())
    assert sorted(index["files"]) == ["appendix.md", "leaderboard.md"]


def _digest(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_report_that_fails_part_way_replaces_nothing_of_the_earlier_one(
    tmp_path, monkeypatch, capsys
):
    """A full disk while the second report's Markdown is written (after its CSV, LaTeX and
    plots): each file was written atomically, but not the set, so the folder held the new
    store's tables beside the earlier store's leaderboard.md and index, with nothing to say
    so (crash audit). Now the folder is byte for byte the earlier report, and the next
    report, once there is room, is the report a fresh folder gets."""
    import errno

    import reports.cli

    small, large = tmp_path / "small.sqlite", tmp_path / "large.sqlite"
    winner_store(small, n_images=20).close()
    winner_store(large, n_images=40).close()
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    both = ["--format", "md", "csv", "latex", "plots", "json"]
    assert main(["report", str(small), "--out", str(out), *both]) == 0
    before = _digest(out)
    real = reports.cli.write_atomic

    def full_disk_at_the_markdown(path, data, *args, **kwargs):
        if Path(path).name == "leaderboard.md":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data, *args, **kwargs)

    monkeypatch.setattr(reports.cli, "write_atomic", full_disk_at_the_markdown)
    assert main(["report", str(large), "--out", str(out), *both]) != 0
    assert f"No space left on device (writing under {out})" in capsys.readouterr().err
    assert _digest(out) == before  # nothing replaced, nothing left behind
    monkeypatch.setattr(reports.cli, "write_atomic", real)
    assert main(["report", str(large), "--out", str(out), *both]) == 0
    assert main(["report", str(large), "--out", str(fresh), *both]) == 0
    assert _digest(out).keys() == _digest(fresh).keys()
    assert json.loads((out / REPORT_INDEX).read_text())["complete"] is True


def test_a_staging_folder_of_a_killed_report_is_removed_by_the_next(tmp_path):
    """A report killed while it wrote leaves its hidden staging folder; the next report
    into the folder removes it (its process no longer runs), and leaves alone one of a
    running process, and one another machine writes to a shared folder (review)."""
    import subprocess
    import sys

    from smoothbench.output_folder import STAGING_PREFIX, _staging_prefix

    store = tmp_path / "s.sqlite"
    winner_store(store, n_images=20).close()
    out = tmp_path / "out"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    here = _staging_prefix().rsplit("-", 2)[0]
    dead = out / f"{here}-{int(gone.stdout)}-abc"
    alive = out / f"{here}-{os.getppid()}-abc"
    elsewhere = out / f"{STAGING_PREFIX}another_machine-{int(gone.stdout)}-abc"
    for folder in (dead, alive, elsewhere):
        (folder / "plots").mkdir(parents=True)
        (folder / "plots" / "half.png").write_bytes(b"half")
    assert main(["report", str(store), "--out", str(out), "--format", "md"]) == 0
    assert not dead.exists()
    assert (alive / "plots" / "half.png").is_file()
    assert (elsewhere / "plots" / "half.png").is_file()
    left = {p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)}
    assert left == {alive, elsewhere}


def test_a_folder_where_a_file_of_the_report_goes_replaces_nothing(tmp_path, capsys):
    """``leaderboard.md`` a folder in --out: the report fails before it replaces any file
    of the earlier one (the files were moved in one by one, and those before the folder
    had been replaced: review), and names the folder."""
    small, large = tmp_path / "small.sqlite", tmp_path / "large.sqlite"
    winner_store(small, n_images=20).close()
    winner_store(large, n_images=40).close()
    out = tmp_path / "out"
    both = ["--format", "md", "csv"]
    assert main(["report", str(small), "--out", str(out), *both]) == 0
    (out / "leaderboard.md").unlink()
    (out / "leaderboard.md").mkdir()
    before = _digest(out)
    assert main(["report", str(large), "--out", str(out), *both]) == 1
    assert "leaderboard.md" in capsys.readouterr().err
    assert _digest(out) == before


def test_a_report_stopped_while_deleting_the_earlier_files_leaves_them_listed(
    tmp_path, monkeypatch, capsys
):
    """The final index was written before the earlier report's files were deleted: a
    stop between the two left them in the folder listed by no index, for good."""
    import reports.cli

    store = tmp_path / "s.sqlite"
    with winner_store(store, n_images=40) as st:
        certify_store(st, ["cohen"], ["l2"], [0.01], progress=False)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    assert main(["report", str(store), "--out", str(out), *FORMATS]) == 0
    narrower = ["--model", "m-win", "--alpha", "0.001", *FORMATS]

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(reports.cli, "remove_outputs", stopped)
        assert main(["report", str(store), "--out", str(out), *narrower]) == 130
    index = json.loads((out / REPORT_INDEX).read_text())
    assert index["complete"] is False
    assert _files(out) - {REPORT_INDEX} <= set(index["files"])  # each file listed
    assert main(["report", str(store), "--out", str(out), *narrower]) == 0
    assert main(["report", str(store), "--out", str(fresh), *narrower]) == 0
    assert _files(out) == _files(fresh)
