"""A name holding ``$`` is shown as written in every figure: a model named by its
checkpoint file (``a$\\undefinedcmd$.pt``: the config takes a file's name as it is) made
matplotlib read math text around an unknown symbol, and the whole report failed."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from matplotlib import mathtext

from harness.certify import certify_store
from harness.cli import main
from harness.noise import Gaussian
from reports.plots import plain
from tests.reports._report_synth import ALPHA, DIM, add_counts, new_store

MODEL = r"net $\undefinedcmd$ (v2)"


def test_a_model_name_with_dollars_is_drawn_as_written(tmp_path):
    store = new_store(tmp_path / "s.sqlite", 40, {MODEL: 0.25, "other": 0.25})
    labels = np.arange(40) % 10
    for model in (MODEL, "other"):
        add_counts(store, model, Gaussian(0.25, DIM), labels, labels, np.full(40, 990))
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    out = tmp_path / "out"
    argv = ["report", str(tmp_path / "s.sqlite"), "--out", str(out), "--format", "md", "svg"]
    assert main(argv) == 0
    drawn = "".join(p.read_text() for p in out.rglob("*.svg"))
    assert "undefinedcmd" in drawn and r"net $\undefinedcmd$ (v2)" in drawn


@given(st.text(alphabet="ab$\\^_{}", max_size=12))
def test_plain_text_parses_as_no_math(text):
    """matplotlib's own parser: the escaped text has no math region, so it is the text."""
    escaped = plain(text)
    assert escaped.replace(r"\$", "$") == text
    assert "$" not in escaped.replace(r"\$", "")
    parser = mathtext.MathTextParser("agg")
    parser.parse(escaped)  # no ValueError: nothing read as math
