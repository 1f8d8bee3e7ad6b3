"""A report column is one plugin file too: the example of docs/architecture.md, loaded
with ``smoothbench report --plugin``, adds its column to the JSON entries with its values
(the median radius of the certified images, computed here from the store by hand) and to
the Markdown legend; a key another column holds is refused, the same column registered
again replaces itself, and the registry is as before once the test ends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from reports.columns import COLUMNS, Column, register_column
from reports.tidy import load_outcomes
from smoothbench import plugins
from tests.reports._report_synth import winner_store

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _doc_example() -> str:
    text = DOC.read_text()
    start = text.index("# my_column.py")
    return text[start : text.index("```", start)]


def test_the_documented_column_plugin_adds_its_column(tmp_path, clean_registries):
    winner_store(tmp_path / "s.sqlite", n_images=60).close()
    plugin = tmp_path / "my_column.py"
    plugin.write_text(_doc_example())
    before = list(COLUMNS)
    out = tmp_path / "report"
    args = ["report", str(tmp_path / "s.sqlite"), "--out", str(out), "--plugin", str(plugin)]
    assert main(args) == 0
    assert [c.key for c in COLUMNS] == [c.key for c in before] + ["median_radius"]
    assert "median r" in (out / "leaderboard.md").read_text()
    outcomes = load_outcomes(tmp_path / "s.sqlite")
    seen = 0
    for path in (out / "entries").rglob("*.json"):
        entry = json.loads(path.read_text())
        model = re.search(r"m-(win|mid|low)", path.name).group(0)
        rows = outcomes[(outcomes["model"] == model) & outcomes["correct"]]
        assert entry["median_certified_radius"] == pytest.approx(float(np.median(rows["radius"])))
        seen += 1
    assert seen == 3


def test_a_taken_key_is_refused_and_the_same_column_replaces_itself(clean_registries):
    before = list(COLUMNS)
    with pytest.raises(ValueError, match="column key 'acr'"):
        register_column(Column("acr", "mine", lambda r, c: 0.0, str, "mine", "radius"))
    with pytest.raises(ValueError, match="JSON 'n_test'"):
        register_column(Column("mine", "mine", lambda r, c: 0.0, str, "n_test", "images"))
    assert COLUMNS == before
    # a refused column leaves no trace: its module is not said to have registered one
    assert __name__ not in plugins._OTHER_REGISTRATIONS
    with pytest.raises(TypeError):
        register_column("median")
    column = Column("median_test", "med", lambda r, c: 0.0, str, "median_test", "radius")
    register_column(column)
    again = Column("median_test", "med", lambda r, c: 1.0, str, "median_test", "radius")
    register_column(again)
    assert [c for c in COLUMNS if c.key == "median_test"] == [again]
