"""A file its export listed as incomplete (``"complete": false`` in ``index.json``: the
run had sampled 2 of its 5 images) stays marked when imported: the import warns, the
store records it, and the report says so; importing the file again once complete clears
the mark."""

from __future__ import annotations

import json

from harness import runner
from harness.cli import main
from harness.store import Store
from tests.harness.test_extending_a_store import GAUSSIAN, MODEL_A, MODEL_B, config


def _export(store, out):
    assert main(["export", "cohen-tsv", str(store), "--out", str(out)]) == 0
    index = json.loads((out / "index.json").read_text())
    files = [f for f in index["files"] if f["certifier"] == "cohen"]
    return {f["model"]: (out / f["file"], f["complete"]) for f in files}


def test_an_incomplete_export_stays_marked_when_imported(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), store, progress=False)
    whole = config([MODEL_A, MODEL_B], [GAUSSIAN])
    runner.run(whole, store, progress=False, stop_after=2)  # b: 2 of 5 images
    assert main(["certify", str(store), "--quiet"]) == 0
    files = _export(store, tmp_path / "partial")
    assert files["b"][1] is False and files["a"][1] is True
    capsys.readouterr()
    imported = tmp_path / "imp.sqlite"
    argv = ["import", "cohen-tsv", str(files["a"][0]), str(files["b"][0]), "--store", str(imported)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"warning: {files['b'][0]}: its export listed it as incomplete" in err
    assert str(files["a"][0]) not in err
    with Store(imported, readonly=True) as st:
        assert st.get_manifest("imported_incomplete") == [str(files["b"][0])]
    out = tmp_path / "report"
    assert main(["report", str(imported), "--out", str(out), "--format", "md"]) == 0
    page = (out / "leaderboard.md").read_text()
    assert "imported from 1 file(s) their export listed as incomplete" in page
    # the run finished and exported again into the same folder: the file imported again
    # is complete, and the mark goes
    runner.run(whole, store, progress=False)
    again = _export(store, tmp_path / "partial")
    assert again["b"] == (files["b"][0], True)
    assert main(["import", "cohen-tsv", str(again["b"][0]), "--store", str(imported)]) == 0
    assert "incomplete" not in capsys.readouterr().err
    with Store(imported, readonly=True) as st:
        assert st.get_manifest("imported_incomplete") == []
    assert main(["report", str(imported), "--out", str(out), "--format", "md"]) == 0
    assert "listed as incomplete" not in (out / "leaderboard.md").read_text()
