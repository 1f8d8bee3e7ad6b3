"""Import names the file it cannot read: a TSV that is not UTF-8 text, an ``index.json``
above it that is not JSON, or an export's entry that lacks a field; an ``index.json`` of
someone else (JSON, but not an export's) is passed over."""

import json
from pathlib import Path

import pytest

from harness.interop.cohen_tsv import TsvError
from harness.interop.importing import ImportOptions, import_cohen_tsv
from harness.store import Store
from tests.harness.test_import_files import ROWS, write_cohen

GIVEN = ImportOptions("theirs", "gaussian:sigma=0.25", "cohen", "l2", 0.001, "cifar10")


def test_a_tsv_that_is_not_utf8_is_named(tmp_path):
    path = write_cohen(tmp_path / "run.tsv", ROWS)
    path.write_bytes(path.read_bytes() + b"60\t1\t1\t0.5\t1\t0:00:01\xff\n")
    with Store(tmp_path / "s.sqlite") as st:
        with pytest.raises(TsvError, match=r"run\.tsv: .*byte 0xff at offset \d+ is not UTF-8"):
            import_cohen_tsv(st, [path], GIVEN)
        assert st.imported_rows() == []


@pytest.mark.parametrize("content", [b"{bad", b"\xff\xfe{}"], ids=["not-json", "not-utf8"])
def test_an_unreadable_index_above_the_file_is_named(tmp_path, content):
    path = write_cohen(tmp_path / "a" / "b" / "run.tsv", ROWS)
    (tmp_path / "a" / "index.json").write_bytes(content)
    with Store(tmp_path / "s.sqlite") as st:
        with pytest.raises(ValueError, match=r"a/index\.json: not readable as the index"):
            import_cohen_tsv(st, [path], GIVEN)


@pytest.mark.parametrize(
    "listing", [[1, 2], {"files": []}, {"format": "html", "files": [{"file": "b/run.tsv"}]}]
)
def test_an_index_of_someone_else_is_passed_over(tmp_path, listing):
    """JSON that is not an export's index says nothing of the file: the options given
    describe it, as where there is no index."""
    path = write_cohen(tmp_path / "a" / "b" / "run.tsv", ROWS)
    (tmp_path / "a" / "index.json").write_text(json.dumps(listing))
    with Store(tmp_path / "s.sqlite") as st:
        (done,) = import_cohen_tsv(st, [path], GIVEN)
        assert (done.model, done.certifier, done.alpha) == ("theirs", "cohen", 0.001)
        assert len(st.imported_rows()) == len(ROWS)


def test_an_export_entry_lacking_a_field_is_named(tmp_path):
    path = write_cohen(tmp_path / "a" / "b" / "run.tsv", ROWS)
    entry = {"file": "b/run.tsv", "dataset": "cifar10", "model": "m", "noise": "gaussian"}
    entry |= {"certifier": "cohen", "norm": "l2"}
    listing = {"format": "cohen-tsv", "files": [entry]}
    (tmp_path / "a" / "index.json").write_text(json.dumps(listing))
    with Store(tmp_path / "s.sqlite") as st:
        with pytest.raises(ValueError, match=r"index\.json: the entry of b/run\.tsv lacks alpha"):
            import_cohen_tsv(st, [path])


def test_an_export_index_is_read_once_per_import(tmp_path, monkeypatch):
    """Each file's entry comes from its export's index, read and resolved once for the
    whole import, not once per file (2,000 files of one export took 64 s)."""
    root = tmp_path / "exp"
    spec = {"family": "gaussian", "params": {"dim": 3072, "sigma": 0.25}}
    entries, paths = [], []
    for i in range(30):
        file = f"certified/m{i}/gaussian/cohen_l2_alpha0.001.tsv"
        paths.append(write_cohen(root / file, ROWS))
        entries.append(
            {"file": file, "dataset": "cifar10", "model": f"m{i}", "noise": "gaussian",
             "spec": spec, "certifier": "cohen", "norm": "l2", "alpha": 0.001}
        )  # fmt: skip
    (root / "index.json").write_text(json.dumps({"format": "cohen-tsv", "files": entries}))
    reads, resolved = [], []
    read_text, resolve = Path.read_text, Path.resolve
    monkeypatch.setattr(
        Path, "read_text", lambda p, *a, **k: (reads.append(p.name), read_text(p, *a, **k))[1]
    )
    monkeypatch.setattr(Path, "resolve", lambda p, *a, **k: (resolved.append(p), resolve(p))[1])
    with Store(tmp_path / "s.sqlite") as st:
        done = import_cohen_tsv(st, paths)
    assert [d.model for d in done] == [f"m{i}" for i in range(30)]
    assert reads.count("index.json") == 1
    assert len(resolved) <= 3 * len(paths)  # the files, the entries and the store: not 30 x 30


def _entry(file: str, model: str) -> dict:
    return {"file": file, "dataset": "cifar10", "model": model, "noise": "gaussian",
            "certifier": "cohen", "norm": "l2", "alpha": 0.001}  # fmt: skip


def test_only_the_entry_of_the_file_imported_is_judged(tmp_path):
    """Another file's entry that lacks a field, is not an object or names no file does
    not block an import; of two entries of one file the first is taken (review)."""
    file = "certified/m/g/cohen_l2_alpha0.001.tsv"
    path = write_cohen(tmp_path / "exp" / file, ROWS)
    other = _entry("certified/m2/g/x.tsv", "m2")
    del other["alpha"]
    entries = [_entry(file, "ok"), other, "junk", {"file": None}, _entry(file, "second")]
    listing = {"format": "cohen-tsv", "files": entries}
    (tmp_path / "exp" / "index.json").write_text(json.dumps(listing))
    with Store(tmp_path / "s.sqlite") as st:
        (done,) = import_cohen_tsv(st, [path])
    assert done.model == "ok"


def test_an_export_index_that_does_not_list_the_file_does_not_block_it(tmp_path):
    path = write_cohen(tmp_path / "results" / "cohen" / "run.tsv", ROWS)
    other = _entry("certified/m2/g/x.tsv", "m2")
    del other["model"]
    listing = {"format": "cohen-tsv", "files": [other]}
    (tmp_path / "results" / "index.json").write_text(json.dumps(listing))
    with Store(tmp_path / "s.sqlite") as st:
        (done,) = import_cohen_tsv(st, [path], GIVEN)
    assert done.model == "theirs"


def test_a_misspelt_dataset_is_named_before_the_noise(tmp_path):
    """``--dataset digit`` was blamed on ``--noise`` ("--noise ... is neither a noise of
    the store nor ...: unknown dataset"), as the noise's dimension comes from it (CLI
    audit)."""
    path = write_cohen(tmp_path / "run.tsv", ROWS)
    options = ImportOptions("m", "gaussian:sigma=0.25", "cohen", "l2", 0.001, "digit")
    with Store(tmp_path / "s.sqlite") as st:
        with pytest.raises(ValueError, match=r"^--dataset 'digit': .*did you mean 'digits'"):
            import_cohen_tsv(st, [path], options)
