"""Exporting into a folder that holds an earlier export replaces it: a TSV file of the
earlier ``index.json`` that this store no longer holds is deleted (it would otherwise be
read as this store's), while files the earlier index does not list, and any path it names
outside the folder, are left alone."""

import json

import pytest

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


def _tree(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_an_export_that_fails_part_way_leaves_the_earlier_export_as_it_was(
    tmp_path, capsys, monkeypatch
):
    """A full disk at the third TSV file: the first two had replaced the earlier export's,
    whose index.json still said ``complete`` and gave their old row counts (crash audit).
    Now the folder is byte for byte the earlier export; once there is room, the next
    export is whole."""
    import errno

    import harness.interop.cohen_tsv as cohen_tsv
    from harness.cli import main

    out = tmp_path / "tsv"
    _export(capsys, _store(tmp_path / "few.sqlite", images=4), out)
    before = _tree(out)
    real, calls = cohen_tsv.write_atomic, []

    def full_disk_at_the_third_file(path, data, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data, *args, **kwargs)

    monkeypatch.setattr(cohen_tsv, "write_atomic", full_disk_at_the_third_file)
    store = _store(tmp_path / "all.sqlite")
    assert main(["export", "cohen-tsv", str(store), "--out", str(out), "--no-soundness"]) != 0
    assert len(calls) == 3
    assert _tree(out) == before
    monkeypatch.setattr(cohen_tsv, "write_atomic", real)
    _, _, index = _export(capsys, store, out)
    for entry in index["files"]:
        lines = (out / entry["file"]).read_text().splitlines()
        assert len(lines) - 1 == entry["rows"] == 8


def test_files_of_an_export_stopped_while_moving_them_in_are_not_imported(
    tmp_path, capsys, monkeypatch
):
    """While an export moves its files in, index.json lists the earlier export's files and
    the new ones and says so: an import from a folder an export left in that state (here
    stopped after replacing one file) is refused, not read with the earlier descriptions."""
    import harness.interop.exporting as exporting
    from harness.cli import main
    from harness.interop.importing import MOVING
    from harness.store import Store

    out = tmp_path / "tsv"
    _export(capsys, _store(tmp_path / "few.sqlite", images=4), out)
    first = _listed(out)

    def stopped_after_one(stage, out, before_replacing):
        before_replacing()
        moved = sorted(p for p in stage.rglob("*.tsv"))[0]
        target = out / moved.relative_to(stage)
        moved.replace(target)
        raise KeyboardInterrupt

    monkeypatch.setattr(exporting, "move_in", stopped_after_one)
    with Store(_store(tmp_path / "all.sqlite"), readonly=True) as store:
        with pytest.raises(KeyboardInterrupt):
            exporting.write_cohen_tsv(store, out)
    index = json.loads((out / "index.json").read_text())
    assert index[MOVING] is True and _listed(out) >= first
    capsys.readouterr()
    files = sorted(out.rglob("*.tsv"))
    argv = ["import", "cohen-tsv", *map(str, files), "--store", str(tmp_path / "copy.sqlite")]
    assert main(argv) == 2
    assert "stopped while it replaced an earlier export's files" in capsys.readouterr().err


def test_an_export_stopped_while_deleting_the_earlier_files_leaves_them_listed(
    tmp_path, capsys, monkeypatch
):
    """The final index was written before the earlier export's files were deleted: a stop
    between the two left TSV files of groups the store no longer holds, listed by no
    index, to be read as the store's."""
    from harness.interop import exporting
    from harness.store import Store

    out = tmp_path / "tsv"
    _export(capsys, _store(tmp_path / "both.sqlite"), out)
    gauss = _store(tmp_path / "gauss.sqlite", noises=(GAUSS,))

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(exporting, "remove_outputs", stopped)
        with Store.open_existing(gauss, readonly=True) as st:
            exporting.export_cohen_tsv(st, out)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.tsv")}
    assert on_disk <= _listed(out)
    _export(capsys, gauss, out)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.tsv")}
    assert on_disk == _listed(out) and not any("laplace" in f for f in on_disk)
