"""Model names in the Markdown page's running text (the model's heading over its rows,
the headline's claim, the figures' captions, the footnotes) are shown as written, as they are in the
table cells: a model named by its checkpoint file (``net*2_<b>x</b>``) went into the
headline raw, where ``*`` and ``_`` became emphasis and ``<b>`` a tag."""

from __future__ import annotations

import numpy as np
from markdown_it import MarkdownIt

from harness.certify import certify_store
from harness.noise import Gaussian
from reports.cli import make_report, write_report
from tests.reports._report_synth import ALPHA, DIM, N_CLASSES, add_counts, new_store

NAMES = ("net*2_<b>x</b>", "w__v__")


def _leaderboard(tmp_path, names) -> str:
    config = {
        "report": {"reference": "cohen"},
        "certify": {"certifiers": ["cohen"], "norms": ["l2"]},
    }
    path = tmp_path / f"{len(names[0])}.sqlite"
    store = new_store(path, 60, {m: 0.25 for m in names}, config=config)
    labels = np.arange(60) % N_CLASSES
    for model, top in zip(names, (995, 900), strict=True):
        add_counts(store, model, Gaussian(0.25, DIM), labels, labels, [top] * 60)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    report, headlines = make_report(path)
    out = tmp_path / f"out{len(names[0])}"
    write_report(report, headlines, out)
    return (out / "leaderboard.md").read_text()


def _inline_outside_tables(markdown: str) -> list[tuple[list[str], str]]:
    """Each inline run outside tables: its token types and its text as parsed."""
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)
    out, depth = [], 0
    for token in tokens:
        depth += {"table_open": 1, "table_close": -1}.get(token.type, 0)
        if depth == 0 and token.type == "inline":
            children = token.children or []
            out.append(([c.type for c in children], "".join(c.content for c in children)))
            for image in (c for c in children if c.type == "image"):  # its alt text
                alt = image.children or []
                out.append(([c.type for c in alt], "".join(c.content for c in alt)))
    return out


def test_model_names_in_headings_and_the_headline_read_back_as_written(tmp_path):
    marked = _inline_outside_tables(_leaderboard(tmp_path, NAMES))
    plain = _inline_outside_tables(_leaderboard(tmp_path, ("neta", "netb")))
    # the same markup as the page of plain names: none comes from the names
    assert [types for types, _ in marked] == [types for types, _ in plain]
    texts = [text for _, text in marked]
    for name in NAMES:
        assert any(name in text for text in texts), name
    claim = next(t for t in texts if "against" in t and NAMES[1] in t)
    assert NAMES[0] in claim  # the headline's claim names both models as written
