"""A report written into a folder that holds an earlier report replaces it: after the
second, the folder holds what a report into a fresh folder holds (the default ``--out``
is ``out/`` for every store, so the first report's figures and JSON entries of rows the
second does not show stayed beside it); files no report wrote are left alone, and so is
whatever a damaged or foreign index names outside the folder or of another kind."""

from __future__ import annotations

import json
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
