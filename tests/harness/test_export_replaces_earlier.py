"""Exporting into a folder that holds an earlier export replaces it: a TSV file of the
earlier ``index.json`` that this store no longer holds is deleted (it would otherwise be
read as this store's), while files the earlier index does not list, and any path it names
outside the folder, are left alone."""

import json

from tests.harness.test_export_completeness import GAUSS, _export, _store


def _listed(out):
    return {f["file"] for f in json.loads((out / "index.json").read_text())["files"]}


def test_a_second_export_deletes_the_files_only_the_first_one_wrote(tmp_path, capsys):
    out = tmp_path / "tsv"
    _export(capsys, _store(tmp_path / "both.sqlite"), out)
    first = _listed(out)
    assert any("laplace" in f for f in first)
    mine = out / "certified" / "notes.tsv"  # the user's, not in the index
    mine.write_text("kept\n")
    (out / "README.txt").write_text("kept\n")
    printed, _, index = _export(capsys, _store(tmp_path / "gauss.sqlite", noises=(GAUSS,)), out)
    second = _listed(out)
    assert second and second < first
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.tsv")}
    assert on_disk == second | {"certified/notes.tsv"}
    assert mine.read_text() == "kept\n" and (out / "README.txt").read_text() == "kept\n"
    assert f"removed {len(first - second)} TSV files of an earlier export" in printed


def test_an_index_naming_paths_outside_the_folder_or_other_files_deletes_none(tmp_path, capsys):
    out = tmp_path / "tsv"
    _export(capsys, _store(tmp_path / "s.sqlite"), out)
    outside = tmp_path / "outside.tsv"
    outside.write_text("kept\n")
    (out / "README.txt").write_text("kept\n")  # inside, but no TSV file
    index = json.loads((out / "index.json").read_text())
    index["files"].append({"file": "README.txt"})
    index["files"].append({"file": "../outside.tsv"})
    index["files"].append({"file": str(outside)})
    (out / "index.json").write_text(json.dumps(index))
    printed, _, _ = _export(capsys, _store(tmp_path / "again.sqlite"), out)
    assert outside.read_text() == "kept\n" and (out / "README.txt").read_text() == "kept\n"
    assert "removed" not in printed


def test_a_damaged_earlier_index_is_replaced_and_deletes_nothing(tmp_path, capsys):
    out = tmp_path / "tsv"
    _export(capsys, _store(tmp_path / "both.sqlite"), out)
    before = {p.relative_to(out).as_posix() for p in out.rglob("*.tsv")}
    (out / "index.json").write_text("{not json")
    printed, _, _ = _export(capsys, _store(tmp_path / "gauss.sqlite", noises=(GAUSS,)), out)
    assert {p.relative_to(out).as_posix() for p in out.rglob("*.tsv")} == before
    assert "removed" not in printed
    assert _listed(out) < before
