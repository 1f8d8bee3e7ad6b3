"""A manifest entry without the shape smoothbench writes is refused where it is read,
naming the entry: a ``law_distances`` that is a list crashed ``report`` ("internal
error") and ``certify``, and an ``imported_confidence_spent`` entry of the wrong length
was passed over (its certificates read as spending nothing beyond alpha)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.cli import main
from harness.manifest_shapes import SHAPES, manifest_fault
from harness.store import Store, StoreError
from tests.harness._stores import counts_store

DAMAGED = {
    "n": [0, -3, 2.5, True, "100"],
    "law_distances": [[0.1], {"g": -0.1}, {"g": 1.0}, {"g": "0"}, {"g": None}, {"g": True}],
    "imported_confidence_spent": [
        {"a": "0.01"},
        {"a": -0.01},
        {"a": True},
        [["m", "g", "c", "l2", 0.001, "f.tsv"]],
        [["m", "g", "c", "l2", 0.001, "f.tsv", "0.01"]],
        [["m", "g", "c", "l2", 0.001, "f.tsv", 1.5]],
        [["m", "g", "c", "l2", True, "f.tsv", 0.01]],
    ],
    "certification_failures": [
        {"m": "x"},
        [{"model": "m", "noise": "g"}],
        ["m"],
        [{"model": "m", "noise": "g", "certifier": "c", "norm": 2, "error": "e"}],
    ],
    "noise_approximations": [[], "table"],
    "certifier_options": [{"cohen": []}, []],
    "plugins": [[1], "p.py"],
    "plugin_registrations": [{"p.py": "certifier:x"}, {"p.py": [1]}],
    "sessions": [{}, [1]],
}


def _store_with(path, key, value) -> None:
    counts_store(path, images=3)
    with sqlite3.connect(path) as db:
        db.execute("INSERT OR REPLACE INTO manifest VALUES (?, ?)", (key, json.dumps(value)))


@pytest.mark.parametrize(
    ("key", "value"), [(k, v) for k, values in DAMAGED.items() for v in values]
)
def test_a_damaged_entry_is_refused_by_name(tmp_path, key, value):
    path = tmp_path / "s.sqlite"
    _store_with(path, key, value)
    with Store(path, readonly=True) as store:
        with pytest.raises(StoreError, match=f"the manifest's {key} is damaged"):
            store.get_manifest(key)
        with pytest.raises(StoreError, match=f"the manifest's {key} is damaged"):
            store.manifest()
        assert store.get_manifest("n0") == 10  # the other entries are read


def test_text_that_is_no_json_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    counts_store(path, images=3)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE manifest SET value = '{\"g\": ' WHERE key = 'n'")
    with Store(path, readonly=True) as store, pytest.raises(StoreError, match="not JSON"):
        store.get_manifest("n")


@pytest.mark.parametrize(
    "command",
    [["report", "--out", "{tmp}/report"], ["certify", "--certifier", "cohen", "--quiet"]],
)
def test_the_commands_say_which_entry_is_damaged(tmp_path, capsys, command):
    path = tmp_path / "s.sqlite"
    counts_store(path, images=3)
    assert main(["certify", str(path), "--certifier", "cohen", "--quiet"]) == 0
    with sqlite3.connect(path) as db:
        db.execute("UPDATE manifest SET value = '[0.1]' WHERE key = 'law_distances'")
    capsys.readouterr()
    argv = [command[0], str(path), *(a.format(tmp=tmp_path) for a in command[1:])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "law_distances is damaged" in err and "internal error" not in err, err


def test_what_the_commands_write_has_its_shape(tmp_path):
    path = tmp_path / "s.sqlite"
    counts_store(path, images=3)
    assert main(["certify", str(path), "--certifier", "cohen", "--quiet"]) == 0
    with Store(path, readonly=True) as store:
        written = store.manifest()
    assert {"law_distances", "certifier_options"} <= set(written)
    assert all(manifest_fault(k, v) is None for k, v in written.items())


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(key=st.sampled_from(sorted(SHAPES)), value=_JSON)
def test_the_fault_is_a_phrase_or_none(key, value):
    fault = manifest_fault(key, value)
    assert fault is None or (isinstance(fault, str) and fault)


def test_the_spending_record_of_an_older_version_is_read_per_group(tmp_path):
    """Stores written while ``imported_confidence_spent`` was kept per source,
    ``{source: spent}``, read it as today's entry per group: every imported group of the
    source spends it (it was refused as damaged, and before that passed over)."""
    from tests.harness.test_interop import ROWS, write_cohen

    path = tmp_path / "s.sqlite"
    flat = write_cohen(tmp_path / "results.tsv", ROWS)
    for norm in ("l2", "linf"):
        argv = ["import", "cohen-tsv", str(flat), "--store", str(path), "--model", f"m-{norm}",
                "--noise", "gaussian:sigma=0.5", "--certifier", "mine", "--norm", norm,
                "--alpha", "0.001", "--dataset", "cifar10"]  # fmt: skip
        assert main(argv) == 0
    with Store(path, readonly=True) as store:
        (source,) = {s for (s,) in store.query("SELECT DISTINCT source FROM imported")}
    with sqlite3.connect(path) as db:
        older = json.dumps({source: 0.002, "gone.tsv": 0.5, "spent-nothing.tsv": 0})
        db.execute("INSERT OR REPLACE INTO manifest VALUES ('imported_confidence_spent', ?)",
                   (older,))  # fmt: skip
    with Store(path, readonly=True) as store:
        entries = store.get_manifest("imported_confidence_spent")
        spent = store.manifest()["imported_confidence_spent"]
    assert entries == spent
    assert sorted((e[0], e[3], e[5], e[6]) for e in entries) == [
        ("m-l2", "l2", source, 0.002),
        ("m-linf", "linf", source, 0.002),
    ]
    assert manifest_fault("imported_confidence_spent", entries) is None
